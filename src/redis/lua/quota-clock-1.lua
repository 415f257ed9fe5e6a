-- The clock the quota scripts use: the caller's, or Redis TIME (one clock for the fleet).
--
-- KEYS: the vendor's admission hash (only routes the call on a Cluster).
-- ARGV: clockMs (`''`: Redis TIME).
-- Returns the time in ms, as a string.
local stateKey = unpack(KEYS)
local clockMs = unpack(ARGV)
--- @include "quota-now"

return tostring(now_ms())
