"""The command line, one module per verb family: ``cli`` (the dispatcher, check, solve, explain, password),
``workbook`` (template, import), ``generate``, ``report``, ``whatif`` (compare); ``console`` holds what they share."""
