-- A claim takes one endpoint's due deliveries, from an endpoint none of whose pending
-- deliveries is under a live lease: both questions asked of one endpoint's pending rows.
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries(endpoint_id, next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_leased ON webhook_deliveries(endpoint_id, claimed_until) WHERE status = 'pending';
