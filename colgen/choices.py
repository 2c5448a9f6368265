"""The names of colgen's choices (methods, formulations, backends, generator networks,
pictures, sweep engines, objectives).

Kept free of imports: the command line builds its help from them without loading any solver, and
the modules that implement each choice import its names from here (one source of truth).
"""

METHODS = ("brute", "ilp", "bnp")
FORMULATIONS = ("seed", "tight", "compact")
BACKENDS = ("auto", "highs", "gurobi")
NETWORKS = ("uniform", "nodes", "distinct")
PLOT_KINDS = ("placement", "convergence", "pareto")
SWEEP_ENGINES = ("local", "dask", "ray")
OBJECTIVES = ("throughput", "cost", "cost-per-token")
