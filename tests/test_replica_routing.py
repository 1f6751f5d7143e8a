"""Reads on a replica, writes and a writer's next reads on the primary (portal/replicas.py).

The replica is Django's test mirror (portal/settings_test.py): a second connection to the
test database. It sees what has been committed, hence transactional tests, and which alias
ran a query shows in that connection's captured queries. A replica that lags is a
repeatable-read transaction held open on that connection: until it ends, every read through
it sees the database as it was when it began, as a replica that has not yet replayed the
writes since would.
"""

import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Group
from django.core import signing
from django.db import connections, transaction
from django.http import HttpResponse
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from opinions import roles
from opinions.models import Committee, Opinion
from portal import replicas

from .factories import CommitteeFactory, OpinionFactory, SubthemeFactory, UserFactory

ROOT = Path(__file__).resolve().parent.parent
ON_BOTH = pytest.mark.django_db(
    transaction=True, serialized_rollback=True, databases=["default", "replica"]
)
BODY = "複製遅延の確認：自治体の窓口業務を広域で共同化する意見。"
PASSWORD = "correct-horse-battery"


def settings_with(**env) -> dict:
    """portal/settings.py as a process with this environment reads it."""
    code = (
        "import json; from portal import settings as s; print(json.dumps({"
        "'databases': s.DATABASES, 'routers': s.DATABASE_ROUTERS, 'middleware': s.MIDDLEWARE}))"
    )
    environment = {
        key: value
        for key, value in os.environ.items()
        if key
        not in {
            "DATABASE_REPLICA_URL",
            "DJANGO_DB_DISABLE_SERVER_SIDE_CURSORS",
            "DJANGO_DB_PREPARE_THRESHOLD",
        }
    }
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env={**environment, **env},
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(result.stdout)


def test_without_a_replica_there_is_no_second_database_router_or_middleware():
    configured = settings_with(DATABASE_URL="postgres://postgres@127.0.0.1:5432/portal")
    assert list(configured["databases"]) == ["default"]
    assert configured["routers"] == ["opinions.routers.DerivedTablesRouter"]
    assert not [name for name in configured["middleware"] if "replica" in name]
    assert not configured["databases"]["default"]["DISABLE_SERVER_SIDE_CURSORS"]


def test_statements_are_prepared_unless_behind_a_transaction_pooler_or_turned_off():
    """A connection prepares what it runs twice; behind PgBouncer in transaction mode (server-
    side cursors off) its statements would be lost with the server connection: not prepared."""
    url = "postgres://postgres@127.0.0.1:5432/portal"
    direct = settings_with(DATABASE_URL=url)["databases"]["default"]["OPTIONS"]
    assert (direct["server_side_binding"], direct["prepare_threshold"]) == (True, 2)
    pooled = settings_with(DATABASE_URL=url, DJANGO_DB_DISABLE_SERVER_SIDE_CURSORS="1")
    turned_off = settings_with(DATABASE_URL=url, DJANGO_DB_PREPARE_THRESHOLD="0")
    for configured in (pooled, turned_off):
        options = configured["databases"]["default"]["OPTIONS"]
        assert "server_side_binding" not in options and "prepare_threshold" not in options
    sqlite = settings_with(DATABASE_URL="sqlite:///x.sqlite3")["databases"]["default"]
    assert "prepare_threshold" not in sqlite.get("OPTIONS", {})


def test_a_replica_url_adds_the_replica_its_router_and_middleware():
    configured = settings_with(
        DATABASE_URL="postgres://postgres@127.0.0.1:6432/portal",
        DATABASE_REPLICA_URL="postgres://postgres@127.0.0.1:6432/portal_replica",
        DJANGO_DB_DISABLE_SERVER_SIDE_CURSORS="1",
    )
    default, replica = configured["databases"]["default"], configured["databases"]["replica"]
    assert (replica["NAME"], replica["PORT"]) == ("portal_replica", 6432)
    assert replica["OPTIONS"] == default["OPTIONS"]  # work_mem, jit, timeouts alike
    assert replica["TEST"] == {"MIRROR": "default"}
    # Both go through PgBouncer in transaction mode: no server-side cursors on either.
    assert default["DISABLE_SERVER_SIDE_CURSORS"] and replica["DISABLE_SERVER_SIDE_CURSORS"]
    assert configured["routers"] == [
        "portal.replicas.ReplicaRouter",
        "opinions.routers.DerivedTablesRouter",
    ]
    middleware = configured["middleware"]
    session = middleware.index("django.contrib.sessions.middleware.SessionMiddleware")
    assert middleware[session + 1] == "portal.replicas.ReadYourWritesMiddleware"


# --- The router on its own --------------------------------------------------------------


def test_outside_a_request_every_read_goes_to_the_primary():
    router = replicas.ReplicaRouter()
    assert router.db_for_read(Opinion) == "default"
    with replicas.reads(replica=False):
        assert router.db_for_read(Opinion) == "default"


def test_after_a_write_the_rest_of_the_request_reads_the_primary():
    router = replicas.ReplicaRouter()
    with replicas.reads(replica=True) as state:
        assert router.db_for_read(Opinion) == "replica"
        assert router.db_for_write(Opinion) == "default"
        assert state.wrote
        assert router.db_for_read(Opinion) == "default"
    assert router.db_for_read(Opinion) == "default"  # and nothing is left for the next one


def test_the_replica_is_never_migrated_and_relations_across_both_are_allowed():
    router = replicas.ReplicaRouter()
    assert router.allow_migrate("replica", "opinions") is False
    assert router.allow_migrate("default", "opinions") is None  # the other routers decide
    from_replica, from_primary = Committee(), Committee()
    from_replica._state.db, from_primary._state.db = "replica", "default"
    assert router.allow_relation(from_replica, from_primary) is True


# --- Routed requests on PostgreSQL ------------------------------------------------------


@pytest.fixture
def routed(settings, on_postgresql):
    """The router and the middleware as portal/settings.py installs them with a replica."""
    settings.DATABASE_ROUTERS = ["portal.replicas.ReplicaRouter", *settings.DATABASE_ROUTERS]
    session = settings.MIDDLEWARE.index("django.contrib.sessions.middleware.SessionMiddleware")
    settings.MIDDLEWARE = [
        *settings.MIDDLEWARE[: session + 1],
        "portal.replicas.ReadYourWritesMiddleware",
        *settings.MIDDLEWARE[session + 1 :],
    ]
    roles.apply()  # the groups as declared, whatever the test before left of them
    yield
    connections["replica"].close()  # its own connection, or the test database stays in use


@contextlib.contextmanager
def queries():
    """The SQL run on the primary and on the replica, as two lists of statements."""
    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(connections["replica"]) as replica,
    ):
        seen = {"default": [], "replica": []}
        yield seen
    seen["default"] = [query["sql"] for query in primary.captured_queries]
    seen["replica"] = [query["sql"] for query in replica.captured_queries]


@contextlib.contextmanager
def lagging_replica():
    """The replica stops replaying here: it keeps showing the data as it is now until the
    block ends, and then has caught up."""
    with transaction.atomic(using="replica"):
        with connections["replica"].cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            cursor.execute("SELECT count(*) FROM opinions_opinion")  # the snapshot is taken
        yield


def member():
    user = UserFactory(email="member@example.jp")
    user.groups.add(Group.objects.get(name=roles.MEMBER))
    return user


def search(client, term="複製遅延") -> str:
    """The list's search for the test's remark (its text is marked up where it matches)."""
    return client.get(reverse("opinions:opinion-list"), {"q": term}).content.decode()


@ON_BOTH
def test_an_anonymous_page_and_its_data_version_are_read_from_the_replica(client, routed):
    opinion = OpinionFactory(body=BODY, theme=SubthemeFactory())
    with queries() as seen:
        html = search(client)
    assert opinion.get_absolute_url() in html
    assert any("opinions_data_version" in sql for sql in seen["replica"])
    assert not any("opinions_data_version" in sql for sql in seen["default"])
    assert any("opinions_opinion" in sql for sql in seen["replica"])
    assert replicas.COOKIE not in client.cookies  # reading pins nobody


@ON_BOTH
def test_a_lagging_replica_page_is_not_cached_under_the_primarys_newer_version(client, routed):
    """The version is read where the rows are: a page of the replica's older rows is cached
    under the older version, so once the replica has caught up nobody is served it."""
    theme = SubthemeFactory()
    search(client)  # the version and page before the change, cached
    with lagging_replica():
        opinion = OpinionFactory(body=BODY, theme=theme)  # committed on the primary
        assert opinion.get_absolute_url() not in search(client)  # not on the replica yet
    assert opinion.get_absolute_url() in search(client)


@ON_BOTH
def test_signing_in_pins_the_browser_to_the_primary(client, routed):
    user = member()
    login = client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert login.status_code == 302
    assert replicas.COOKIE in login.cookies
    with queries() as seen:
        assert client.get(reverse("opinions:mypage")).status_code == 200
    assert seen["default"] and not seen["replica"]


@ON_BOTH
def test_a_member_reads_their_new_remark_although_the_replica_lags(client, routed):
    user = member()
    client.force_login(user)
    theme = SubthemeFactory()
    form = {
        "body": BODY,
        "theme": theme.pk,
        "token": "3f1c9a4e-2b7d-4c1e-9a0b-6d5e4f3a2b1c",
        "step": "save",
    }
    with lagging_replica():
        with queries() as seen:
            submitted = client.post(reverse("opinions:submit"), form)
        assert submitted.status_code == 302, submitted.content.decode()[:500]
        assert seen["default"] and not seen["replica"]  # a POST reads the primary
        opinion = Opinion.objects.get(body=BODY)
        assert submitted.url == reverse("opinions:submit-done", args=[opinion.pk])

        done = client.get(submitted.url)  # pinned: from the primary
        assert done.status_code == 200 and BODY in done.content.decode()
        assert BODY in client.get(reverse("opinions:mypage")).content.decode()

        # The same pages without the cookie come from the replica, which lacks the remark.
        pin = client.cookies.pop(replicas.COOKIE)
        assert client.get(submitted.url).status_code == 404
        assert BODY not in client.get(reverse("opinions:mypage")).content.decode()
        client.cookies[replicas.COOKIE] = pin
        assert client.get(submitted.url).status_code == 200


@ON_BOTH
def test_the_pin_lasts_its_seconds_and_a_forged_one_pins_nothing(
    client, routed, settings, monkeypatch
):
    settings.DATABASE_REPLICA_PIN_SECONDS = 60
    user = member()
    client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    mypage = reverse("opinions:mypage")
    with queries() as seen:
        client.get(mypage)
    assert not seen["replica"]

    # The cookie is signed with its time: a minute later by the signer's clock (not a
    # sleep, which a loaded machine stretches), it is older than the setting and pins nothing.
    later = time.time() + 61
    monkeypatch.setattr(signing, "time", SimpleNamespace(time=lambda: later))
    with queries() as seen:
        assert client.get(mypage).status_code == 200
    assert seen["replica"]

    monkeypatch.undo()
    client.cookies[replicas.COOKIE] = "1"  # not signed
    with queries() as seen:
        client.get(mypage)
    assert seen["replica"]


@ON_BOTH
def test_a_safe_request_that_writes_reads_its_write_back_and_pins(routed):
    """A GET that writes (none of the portal's pages does today) reads the rest from the
    primary and pins the browser like a POST."""
    committee = CommitteeFactory()
    where = {}

    def view(request):
        where["before"] = Committee.objects.all().db
        Committee.objects.filter(pk=committee.pk).update(name="改名後の会議")
        where["after"] = Committee.objects.all().db
        where["name"] = Committee.objects.get(pk=committee.pk).name
        return HttpResponse("ok")

    response = replicas.ReadYourWritesMiddleware(view)(RequestFactory().get("/"))
    assert where == {"before": "replica", "after": "default", "name": "改名後の会議"}
    assert replicas.COOKIE in response.cookies


@ON_BOTH
def test_a_transaction_reads_the_primary(routed):
    CommitteeFactory()
    with replicas.reads(replica=True):
        assert Committee.objects.all().db == "replica"
        with queries() as seen, transaction.atomic():
            assert Committee.objects.count() == 1
        assert seen["default"] and not seen["replica"]
