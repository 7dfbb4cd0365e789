-- 008: who is still there (docs/agent.md, "Leaving the fleet"). An agent that
-- exits cleanly says goodbye (left_at), so that its device shows offline at
-- once instead of after the lease TTL; `tailsweep devices retire NAME` takes
-- a device out of sweep planning (retired_at) until an agent registers it
-- again. Rows from before hold NULL: present, not retired.
ALTER TABLE agents ADD COLUMN left_at REAL;
ALTER TABLE devices ADD COLUMN retired_at REAL;
