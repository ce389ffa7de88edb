"""xeploai's solver, in four parts and a few shared modules.

- ``engine``: the rules as records, the CP-SAT models and the staged least-change solve, conflicts, what-ifs;
- ``explanations``: a reason per change, why-not answers, what-if comparisons;
- ``reports``: the Word report and the Excel results;
- ``commands``: the command line (``xeploai``, ``python -m solver``);
- ``verify``: the independent verifier (shares no code with ``engine``); ``result``: results with an explicit
  status; ``audit``: the append-only log; ``access``: the case folder and password; ``appcore``: the app's
  logic without Streamlit; ``io``, ``jsonout``: safe and deterministic output.
"""
