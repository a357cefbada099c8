"""The request lifecycle and maker-checker approval: how a goodwill request is stored, moves
through its statuses and is shown (records), decided and fulfilled (decisions), handed to its
workflows from the table's stream (dispatch), and recovered when a workflow left it (reconcile)."""
