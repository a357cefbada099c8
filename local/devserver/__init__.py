"""`make local`: the development server (server), and what it serves besides the API: the
Member Care console's static files (console), what was "sent" (outbox), the events published on
the bus (events_log), and a webhook receiver for the demo and the tests (webhook_receiver)."""
