"""The process's resident memory for the benchmarks (Linux /proc): now and at its peak, and a restart of the peak."""


def resident_mib() -> tuple[float, float]:
    """Resident memory now and at its peak since the start or the last reset_peak() (MiB)."""
    fields = {}
    with open("/proc/self/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                fields[key] = int(value.split()[0]) / 1024.0
    return fields["VmRSS"], fields["VmHWM"]


def reset_peak() -> None:
    """Start the peak again from the present."""
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")
