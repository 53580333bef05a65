-- wrk script for ff-serve: POST single-row dataframe_records requests, one
-- per row of a CSV of raw trips (the first argument after --), in turn.
-- A second argument paces each connection: that many milliseconds between
-- its requests on average (wrk measures latency from the send, so a paced run gives the
-- latency at a set rate rather than at saturation). Prints p50/p99 latency
-- and requests/s in a line bench/run reads.
local bodies = {}
local n = 0
local pause = 0

function init(args)
	local f = assert(io.open(args[1], "r"))
	local header = f:read("*l")
	local cols = {}
	for c in header:gmatch("[^,]+") do cols[#cols + 1] = c end
	for line in f:lines() do
		local vals, i = {}, 0
		for v in (line .. ","):gmatch("([^,]*),") do
			i = i + 1
			vals[#vals + 1] = string.format("%q:%q", cols[i], v)
		end
		bodies[#bodies + 1] = '{"dataframe_records":[{' .. table.concat(vals, ",") .. '}]}'
		if #bodies >= 10000 then break end
	end
	f:close()
	pause = tonumber(args[2] or "0")
	-- Whole requests formatted once: wrk's Lua per request is the load
	-- generator's own cost, and it shows in the latencies it measures.
	local headers = {["Content-Type"] = "application/json", ["Host"] = "127.0.0.1"}
	for i, body in ipairs(bodies) do
		bodies[i] = wrk.format("POST", "/invocations", headers, body)
	end
end

function request()
	n = n % #bodies + 1
	return bodies[n]
end

-- wrk's delay is whole milliseconds, and equal delays keep connections in
-- step (bursts of 64 at once): draw each from 0 .. 2 x pause instead, the
-- same mean rate, spread out.
function delay()
	if pause == 0 then return 0 end
	return math.random(0, 2 * pause)
end

function done(summary, latency, requests)
	io.write(string.format("wrk: %d requests, %d errors, %.0f requests/s, p50 %.1f us, p99 %.1f us, max %.1f us\n",
		summary.requests, summary.errors.status + summary.errors.connect + summary.errors.read +
		summary.errors.write + summary.errors.timeout,
		summary.requests / (summary.duration / 1e6), latency:percentile(50), latency:percentile(99),
		latency.max))
end
