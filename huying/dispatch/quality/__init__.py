"""Reply quality (答复质量): how well an order's resolution answers the resident's message.

`reply_quality` scores a reply (pure); `reply_review` applies it to an order; `views` shows the score
to staff on the order page and before closing by callback. Moved out of `hot` (hot issues and
early warning), which it never belonged to.
"""
