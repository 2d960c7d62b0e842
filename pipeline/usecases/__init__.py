"""What a user does, tying the stages together: take an application and its files in
(``intake``), check it and keep the report (``checking``, ``report``). The CLI, the web
app and the flows call these; no stage imports them."""
