"""The web workspace (工作台): server-rendered pages for the people who work in a browser.

An interface layer beside ``mobile_api/``: views parse and authorise, the domain services and
selectors decide (the same ones the API calls), scopes come from ``server.access``. Chinese by
default, English when chosen (``workspace.i18n``).
"""
