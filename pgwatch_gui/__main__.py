import sys

from pgwatch_gui.cli import main

sys.exit(main())
