from openehr_kit.cli.main import main

main()
