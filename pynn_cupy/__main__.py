"""`python -m pynn_cupy`: what this installation will run on."""
import os
import platform
import sys


def report() -> list[str]:
    from pynn_cupy.runtime import gpu, sources, twin
    lines = ["pyNN.cupy on Python %s (%s)" % (platform.python_version(), platform.machine()),
             "kernel sources: %s (%d files)" % (sources.kernel_dir(), len(sources.kernel_files()))]
    try:
        import cupy
        lines.append("CuPy %s" % cupy.__version__)
        try:
            count = cupy.cuda.runtime.getDeviceCount()
            for device in range(count):
                props = cupy.cuda.runtime.getDeviceProperties(device)
                lines.append("GPU %d: %s, %.1f GiB, compute capability %d.%d"
                             % (device, props["name"].decode(), props["totalGlobalMem"] / 2 ** 30,
                                props["major"], props["minor"]))
            lines.append("CUDA runtime %s, driver %s" % (cupy.cuda.runtime.runtimeGetVersion(),
                                                         cupy.cuda.runtime.driverGetVersion()))
        except Exception as exc:
            lines.append("no usable GPU (%s)" % str(exc).splitlines()[0])
    except ImportError:
        lines.append("CuPy not installed: GPU unavailable (pip install 'pynn-cupy[cuda12]' or '[cuda13]')")
    lines.append("default device: %s (setup(device='auto'); PYNN_CUPY_DEVICE=%s)"
                 % ("gpu" if gpu.gpu_available() else "cpu (the CPU twin)", os.environ.get("PYNN_CUPY_DEVICE", "unset")))
    try:
        cxx = twin.compiler()
        lines.append("C++ compiler for the CPU twin: %s" % twin._compiler_version(cxx))
    except Exception as exc:
        lines.append(str(exc))
    lines.append("CPU-twin kernel cache: %s" % twin.cache_dir())
    return lines


if __name__ == "__main__":
    print("\n".join(report()))
    sys.exit(0)
