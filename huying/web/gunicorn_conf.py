"""gunicorn settings that `huying serve` adds (`--config python:huying.web.gunicorn_conf`)."""


def post_worker_init(worker):
    """Each worker, once it has loaded the app, warms what the first report needs, without delaying requests."""
    from huying.web.warmup import warm_up_in_background

    warm_up_in_background()


# The access log escapes control characters in the path and headers (huying/web/gunicorn_log.py).
logger_class = "huying.web.gunicorn_log.SafeLogger"
