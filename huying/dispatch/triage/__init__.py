"""Classification at intake and triage (分类分拨), issue 5 item 1's integration.

`intake` is the step `services.intake` calls: orders that arrive without a subject are classified
(huying.dispatch.classifier), get the subject mapped to the predicted family (`LabelRoute`), and go
out automatically when the classifier is sure enough, else wait in the triage queue. `services`
settles the queue (dispatch or reject) and records operators' corrections for the next training run;
`selectors` reads the queue in the actor's territory; `views` and `urls` are the queue page.
"""
