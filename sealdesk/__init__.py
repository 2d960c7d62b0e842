"""The ``sealdesk`` command: one click command line over the product (``pipeline``) and
its scheduled flows (``flows``). The one place that sees both."""
