"""Reports for the committee: the Word report (``word``), the Excel results (``excel``) and the tables both
share (``tables``)."""
