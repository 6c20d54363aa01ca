"""Export: shaping reviews into rows and lines of each output format. No SQL, no Qt.

The service (``reviewer.services.exporting``) reads the workspace and writes the files;
everything here turns what it read into what the file holds.
"""
