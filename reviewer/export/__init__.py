"""Export: shaping reviews into rows and lines of each output format. No SQL, no Qt.

The service (``reviewer.services.exporting``) has the store read the workspace
(``reviewer.store.review_records``, records laid out as ``domain.review_record``) and
drives the writing; everything here turns what was read into what the file holds, and
``publish`` puts the file and its manifest in place atomically.
"""
