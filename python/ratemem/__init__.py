"""ratemem from Python: run the MPI simulator of firing-rate associative memories and read its
results (JSON summary, HDF5 states, sweep CSV).

    import ratemem
    r = ratemem.run(np=2, neurons=2000, trials=4, flip=0.1)
    print(r.retrieval_rate, r.trials["label"])
    r.plot_overlaps(path="overlaps.png")

See python/README.md for the whole API."""
from ._api import load_sweep, run, sweep
from ._launch import Checkpointed, RatememError, find_executable
from ._table import Table
from .result import Result, load

__version__ = "0.1.0"
__all__ = ["run", "load", "sweep", "load_sweep", "Result", "Table", "RatememError", "Checkpointed", "find_executable", "__version__"]
