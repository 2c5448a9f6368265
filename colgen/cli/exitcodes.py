"""Exit codes of ``colgen`` (stable; README.md has the table)."""

OK = 0             #: success: a proven optimum, a valid result, a file written
NO_PROOF = 1       #: a placement without proof of optimality (time limit, node limit, interrupt, heuristic)
BAD_INPUT = 2      #: bad input or usage: the message names the field (or file and row) and the fix
INFEASIBLE = 3     #: proven: no placement exists
NO_PLACEMENT = 4   #: no placement found within the time limit (or before an interrupt)
REFUSED = 5        #: the model would be too large, or the chosen LP/MIP engine cannot take it
INVALID = 6        #: colgen verify rejects the result
INTERNAL = 70      #: a bug in colgen (e.g. a solver's placement the verifier rejects)
INTERRUPTED = 130  #: a second Ctrl-C ended the run at once (or one outside a solve): 128 + SIGINT
TERMINATED = 143   #: the same for SIGTERM: 128 + SIGTERM
