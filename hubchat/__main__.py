import sys

from hubchat.cli import main

sys.exit(main())
