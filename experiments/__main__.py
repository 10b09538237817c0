import sys

from sparft.experiments.cli import main

sys.exit(main())
