"""Hot issues (热点问题) and early warning (Alerts); reply quality lives in `dispatch.quality`.

`grouping` and `heat` find and rank groups of calls about one problem in one place and time;
`alerts` decides when a group or a (subject, area) grows faster than its usual rate. These three
are pure. `services` raises, acknowledges and closes Alerts
and opens work orders from them; `selectors` reads orders and alerts scoped by the actor.
"""
