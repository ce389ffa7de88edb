"""The engine: rules as constraint records (``rules``), propagated upper bounds (``bounds``), the general
(``encoding``) and reduced (``reduced``) CP-SAT models under one staged least-change driver (``staging``,
``solve``), minimal conflicts (``conflicts``), incremental what-ifs (``incremental``) and the manual method
it is compared with (``greedy``)."""
