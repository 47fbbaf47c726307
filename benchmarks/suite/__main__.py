import sys

from benchmarks.suite.run import main

try:
    sys.exit(main())
except KeyboardInterrupt:  # everything started is stopped by then (run.main's ExitStack)
    sys.exit("interrupted")
