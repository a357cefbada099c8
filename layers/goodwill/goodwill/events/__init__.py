"""Domain events: what Goodwill tells other systems, published from the table's stream.

Owns the shapes of the events (`shapes`: a stream record in, the events it stands for out, each
with an `event_id` derived from the item's key and the change, so a redelivered record yields the
same ids) and their publication to the EventBridge bus (`publish`: PutEvents in batches of 10,
failed entries retried). Webhooks (`goodwill.webhooks`) and the spend report
(`goodwill.reports`) consume them.
"""
