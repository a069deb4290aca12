import pytest

from huying.dispatch.models import RequestType, Subject
from huying.dispatch.seed import dispatch_seed


@pytest.mark.django_db
def test_seed_loads_the_taxonomy_and_the_urban_classes_once():
    first = dispatch_seed()
    assert first["request_types"] == 5
    counts = {d: Subject.objects.filter(kind="request", depth=d).count() for d in (1, 2, 3)}
    # 103 distinct second-level names; some (e.g. 其他) recur under several first levels.
    assert counts == {1: 15, 2: 118, 3: 517}
    assert Subject.objects.filter(kind="request", depth=2).values("name").distinct().count() == 103
    leaf = Subject.objects.select_related("parent__parent").get(code="Q010101")
    assert (leaf.parent.code, leaf.parent.parent.code) == ("Q0101", "Q01")
    assert leaf.parent.parent.name == "城乡建设"
    assert Subject.objects.get(code="E0104").parent.code == "E01"
    assert Subject.objects.filter(parent__isnull=True).count() == 15 + 6 + 7
    assert all(s.code.startswith(s.parent.code) for s in Subject.objects.filter(parent__isnull=False)
               .select_related("parent"))
    limits = dict(RequestType.objects.values_list("code", "resolve_limit"))
    assert {k: int(v) for k, v in limits.items()} == {"consult": 2, "help": 10, "complaint": 15, "report": 15,
                                                       "suggestion": 10}
    # Re-running adds nothing and keeps an administrator's edit.
    Subject.objects.filter(code="E0104").update(name="道路保洁")
    assert dispatch_seed() == {"request_types": 0, "subjects": 0}
    assert Subject.objects.get(code="E0104").name == "道路保洁"
