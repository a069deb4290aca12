"""`huying forecast [--days 14] [--evaluate]`: call-volume forecasts per district and level-1 subject.

Without `--evaluate`: fits every series of the city and its districts from the rollups, stores
them (what the worker job "forecast" does daily, for the forecast page and tile; at least 14 days)
and prints the first `--days` days as JSON. With `--evaluate`: holds back the last `--weeks` weeks of every series and prints the
pooled mean absolute scaled error against the naive seasonal forecast (`forecast_mase`, below 1:
better than "same weekday last week") and the interval coverage.
"""

import json
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError

from huying.insight import forecast
from huying.insight.facts import local_day


class Command(BaseCommand):
    help = "Forecast daily calls per district and level-1 subject (JSON); --evaluate measures the error."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=forecast.HORIZON, help="days ahead (1–60)")
        parser.add_argument("--evaluate", action="store_true", help="MASE against the naive seasonal forecast")
        parser.add_argument("--weeks", type=int, default=4, help="weeks held back with --evaluate")

    def handle(self, *args, days, evaluate, weeks, **options):
        from django.utils import timezone

        if not 1 <= days <= 60:
            raise CommandError("--days must be between 1 and 60")
        if not 1 <= weeks <= 26:
            raise CommandError("--weeks must be between 1 and 26")
        today = local_day(timezone.now())
        codes = forecast.forecast_codes()
        if evaluate:
            series = forecast.history(codes, end=today)
            from huying.insight.rollups import city_code

            city = city_code()
            groups = {
                "districts": [s for (c, subj), s in series.items() if c != city and subj == forecast.ALL],
                "subjects": [s for (c, subj), s in series.items() if c == city and subj != forecast.ALL],
                "district_subjects": [s for (c, subj), s in series.items() if c != city and subj != forecast.ALL],
            }
            result = {name: forecast.evaluate_many(items, weeks) for name, items in groups.items()}
            pooled = forecast.evaluate_many(groups["districts"] + groups["subjects"], weeks)
            out = {"through": (today - timedelta(days=1)).isoformat(), "holdout_weeks": weeks, **result,
                   "forecast_mase": pooled["mase"], "coverage": pooled["coverage"]}
        else:
            # Stored with at least the page's 14 days, whatever is printed.
            fitted = forecast.forecasts_refresh(today=today, horizon=max(days, forecast.HORIZON), codes=codes)
            series = []
            for (c, s), fc in sorted(fitted.items()):
                d = fc.as_dict()
                series.append({"code": c, "subject": s, **d, **{k: d[k][:days] for k in ("days", "mean", "lo", "hi")}})
            out = {"made_on": today.isoformat(), "days": days, "series": series}
        self.stdout.write(json.dumps(out, ensure_ascii=False))
