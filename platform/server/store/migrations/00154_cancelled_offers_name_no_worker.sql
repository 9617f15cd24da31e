-- +goose Up
-- Work cancelled while it was offered names no worker: nobody took it, and the worker it
-- was offered to reads it no more (a work item's worker sees it). Cancelling clears the
-- worker now; this clears it on the work cancelled that way before (its history says so).
-- The cancel's history entry names no worker either (its note is the customer's reason,
-- which the export of the worker's data would otherwise carry).
UPDATE work_items w SET worker_id = NULL
    WHERE w.state = 'cancelled' AND w.worker_id IS NOT NULL
      AND EXISTS (SELECT 1 FROM work_history h WHERE h.work_id = w.id AND h.from_state = 'offered' AND h.to_state = 'cancelled');
UPDATE work_history SET worker_id = NULL
    WHERE from_state = 'offered' AND to_state = 'cancelled' AND worker_id IS NOT NULL;

-- +goose Down
-- The worker offered the cancelled work is not restored: it was never its worker (the
-- work's history still names them).
SELECT 1;
