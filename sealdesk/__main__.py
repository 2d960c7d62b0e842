from sealdesk.cli import main

main()
