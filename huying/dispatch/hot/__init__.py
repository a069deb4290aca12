"""Hot issues (热点问题), early warning (Alerts) and reply quality.

`grouping` and `heat` find and rank groups of calls about one problem in one place and time;
`alerts` decides when a group or a (subject, area) grows faster than its usual rate; `reply_quality`
scores an official reply. These four are pure. `services` raises, acknowledges and closes Alerts
and opens work orders from them; `selectors` reads orders and alerts scoped by the actor.
"""
