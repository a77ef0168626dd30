"""Entry script of the frozen LatentLab application (see latentlab.spec).

PyInstaller needs a script, not a console_scripts entry point; this one does
exactly what ``latentlab`` / ``python -m latentlab`` do.
"""

import sys

from latentlab.cli import main

if __name__ == "__main__":
    sys.exit(main())
