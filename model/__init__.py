"""xeploai domain model: levels and V1 ballots (levels, ballots), the case format (case), strict loading with
Vietnamese errors (loader, errors), the networkx hierarchy with quota groups and the S5 order (hierarchy), and
the rule catalogue as data (catalogue, data/rules.toml). No ortools, no streamlit."""
