from assistec_ops.cli import main

raise SystemExit(main())
