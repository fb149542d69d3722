"""The per-presentation table that `ratemem retrieve` prints for input schedules (docs/input.md):
rows of 9 columns starting with the presentation index. Shared by input_check.py and input_rate_check.py."""


def rows(out):
    """The presentation rows of a run's stdout: dominant memory, nearest memory, its overlap, the
    overlap with the dominant memory, and the label."""
    r = []
    for line in out.splitlines():
        f = line.split()
        if len(f) == 9 and f[0].isdigit():
            r.append({'dominant': int(f[3]), 'nearest': int(f[4]), 'overlap': float(f[5]), 'm_dom': float(f[6]), 'label': f[8]})
    return r
