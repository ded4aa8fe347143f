"""cuda/rkf45.cuh against GSL itself: the same system integrated over time steps by rkf45_evolve (compiled from
the header, double precision, no fused multiply-add, as the CPU twin builds float64) and by GSL's
gsl_odeiv_evolve_apply with gsl_odeiv_step_rkf45 and the standard control, as NEST's models call them (the step
size carried across time steps): the same numbers to the last bit. GSL is the copy bundled with NEST's wheel
(skipped where it is missing)."""
import ctypes
import glob
import importlib.util
import os
import subprocess

import numpy as np
import pytest

from pynn_cupy.runtime import sources, twin

# Van der Pol (mu = 8, stiff phases and fast jumps: many rejected steps) and a linear decay that switches its
# rate half-way through each time step count: the right-hand side is autonomous, as NEST's models' are.
_HARNESS = r"""
#include "common.cuh"
#include "rkf45.cuh"
struct VanDerPol {
    double mu;
    MEMBER void rhs(const double* y, double* f) const {
        f[0] = y[1];
        f[1] = mu * (1 - y[0] * y[0]) * y[1] - y[0];
    }
};
extern "C" int integrate(double mu, double dt, int steps, double eps_abs, double eps_rel, double a_y, double a_dydt,
                         double* y, double* out, int* tries_out) {
    VanDerPol sys{mu};
    Rkf45Control<2> con;
    con.eps_abs[0] = con.eps_abs[1] = eps_abs;
    con.eps_rel = eps_rel;
    con.a_y = a_y;
    con.a_dydt = a_dydt;
    double h = dt;
    int overruns = 0;
    for (int s = 0; s < steps; ++s) {
        double t = 0;
        int tries = 0;
        while (t < dt) overruns += rkf45_evolve<2>(sys, con, &t, dt, &h, y, &tries);
        out[2 * s] = y[0];
        out[2 * s + 1] = y[1];
        tries_out[s] = tries;
    }
    return overruns;
}
"""


class _System(ctypes.Structure):
    _fields_ = [("function", ctypes.c_void_p), ("jacobian", ctypes.c_void_p), ("dimension", ctypes.c_size_t),
                ("params", ctypes.c_void_p)]


_RHS = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_double, ctypes.POINTER(ctypes.c_double),
                        ctypes.POINTER(ctypes.c_double), ctypes.c_void_p)


def _gsl():
    spec = importlib.util.find_spec("nest")   # the wheel's bundled libraries sit next to its package
    if spec is None or spec.origin is None:
        raise ImportError("NEST is not installed")
    site = os.path.dirname(os.path.dirname(spec.origin))
    found = glob.glob(os.path.join(site, "nest_simulator.libs", "libgsl-*.so*"))
    if not found:
        raise ImportError("no libgsl in nest_simulator.libs")
    pending = [path for path in glob.glob(os.path.join(os.path.dirname(found[0]), "*.so*")) if path != found[0]]
    while pending:   # the bundled libraries depend on one another by their exact (hashed) names
        loaded = []
        for path in pending:
            try:
                ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL)
                loaded.append(path)
            except OSError:
                pass
        if not loaded:
            break
        pending = [path for path in pending if path not in loaded]
    return ctypes.CDLL(found[0])


@pytest.fixture(scope="module")
def gsl():
    try:
        return _gsl()
    except (ImportError, OSError) as exc:
        pytest.skip("GSL not available: %s" % exc)


@pytest.fixture(scope="module")
def harness(tmp_path_factory):
    path = tmp_path_factory.mktemp("rkf45")
    (path / "harness.cpp").write_text(_HARNESS)
    library = path / "harness.so"
    flags = ["-O2", "-std=c++17", "-shared", "-fPIC", "-ffp-contract=off", "-DREAL=double",
             "-I%s" % sources.kernel_dir()]
    result = subprocess.run([twin.compiler(), *flags, str(path / "harness.cpp"), "-o", str(library)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return ctypes.CDLL(str(library))


def _run_gsl(gsl, mu, dt, steps, control):
    @_RHS
    def rhs(t, y, f, params):
        f[0] = y[1]
        f[1] = mu * (1 - y[0] * y[0]) * y[1] - y[0]
        return 0
    gsl.gsl_odeiv_step_alloc.restype = ctypes.c_void_p
    gsl.gsl_odeiv_control_standard_new.restype = ctypes.c_void_p
    gsl.gsl_odeiv_evolve_alloc.restype = ctypes.c_void_p
    stepper = gsl.gsl_odeiv_step_alloc(ctypes.c_void_p.in_dll(gsl, "gsl_odeiv_step_rkf45"), ctypes.c_size_t(2))
    con = gsl.gsl_odeiv_control_standard_new(*[ctypes.c_double(x) for x in control])
    evolve = gsl.gsl_odeiv_evolve_alloc(ctypes.c_size_t(2))
    system = _System(ctypes.cast(rhs, ctypes.c_void_p), None, 2, None)
    y = (ctypes.c_double * 2)(2.0, 0.0)
    h = ctypes.c_double(dt)
    out = np.zeros((steps, 2))
    for s in range(steps):
        t = ctypes.c_double(0.0)
        while t.value < dt:
            status = gsl.gsl_odeiv_evolve_apply(ctypes.c_void_p(evolve), ctypes.c_void_p(con), ctypes.c_void_p(stepper),
                                                ctypes.byref(system), ctypes.byref(t), ctypes.c_double(dt),
                                                ctypes.byref(h), y)
            assert status == 0
        out[s] = y[0], y[1]
    for free, obj in ((gsl.gsl_odeiv_evolve_free, evolve), (gsl.gsl_odeiv_control_free, con),
                      (gsl.gsl_odeiv_step_free, stepper)):
        free(ctypes.c_void_p(obj))
    return out


@pytest.mark.parametrize("control", [(1e-6, 1e-6, 0.0, 1.0), (1e-3, 0.0, 1.0, 0.0)], ids=["yp (aeif)", "y (hh)"])
def test_rkf45_evolve_is_gsl(gsl, harness, control):
    mu, dt, steps = 8.0, 0.1, 400
    reference = _run_gsl(gsl, mu, dt, steps, control)
    y = (ctypes.c_double * 2)(2.0, 0.0)
    out = np.zeros((steps, 2))
    tries = np.zeros(steps, dtype=np.int32)
    harness.integrate.restype = ctypes.c_int
    overruns = harness.integrate(ctypes.c_double(mu), ctypes.c_double(dt), steps,
                                 *[ctypes.c_double(x) for x in control], y, out.ctypes.data_as(ctypes.c_void_p),
                                 tries.ctypes.data_as(ctypes.c_void_p))
    assert overruns == 0
    np.testing.assert_array_equal(out, reference)   # to the last bit
    assert tries.max() >= 5   # several RKF45 steps (and rejections) within a time step
