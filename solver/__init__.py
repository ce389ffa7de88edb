"""xeploai solver: rules as records (rules), CP-SAT encoding (encoding), staged least-change solve (solve),
minimal conflicts (conflicts), explanations (explain), the independent verifier (verify) and the CLI (cli)."""
