import factory
from django.contrib.auth import get_user_model

from opinions.models import (
    Committee,
    Meeting,
    MunicipalitySize,
    Opinion,
    PolicyDocument,
    Response,
    ResponseCategory,
    SourceDocument,
    Stakeholder,
    Theme,
)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("correct-horse-battery")


class CommitteeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Committee

    name = factory.Sequence(lambda n: f"有識者会議{n}")
    slug = factory.Sequence(lambda n: f"committee-{n}")


class MeetingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Meeting

    committee = factory.SubFactory(CommitteeFactory)
    number = factory.Sequence(lambda n: n + 1)


class SourceDocumentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SourceDocument

    committee = factory.SubFactory(CommitteeFactory)
    title = factory.Sequence(lambda n: f"第{n}回における主なご意見")
    label = "参考資料１"
    slug = factory.Sequence(lambda n: f"document-{n}")


class SectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Theme

    parent = None
    level = Theme.Level.SECTION
    name = factory.Sequence(lambda n: f"章{n}")
    short_label = factory.LazyAttribute(lambda o: o.name)
    slug = factory.Sequence(lambda n: f"theme-{n}")
    position = factory.Sequence(lambda n: n + 1)


class ThemeFactory(SectionFactory):
    parent = factory.SubFactory(SectionFactory)
    level = Theme.Level.THEME
    name = factory.Sequence(lambda n: f"テーマ{n}")


class SubthemeFactory(SectionFactory):
    parent = factory.SubFactory(ThemeFactory)
    level = Theme.Level.SUBTHEME
    name = factory.Sequence(lambda n: f"小テーマ{n}")


class OpinionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Opinion

    body = factory.Sequence(lambda n: f"地方創生に関する意見その{n}。")
    theme = factory.SubFactory(ThemeFactory)
    status = Opinion.Status.PUBLISHED


class MunicipalitySizeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MunicipalitySize

    name = factory.Sequence(lambda n: f"規模{n}")
    slug = factory.Sequence(lambda n: f"size-{n}")


class StakeholderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Stakeholder

    name = factory.Sequence(lambda n: f"関係者{n}")
    slug = factory.Sequence(lambda n: f"stakeholder-{n}")


class PolicyDocumentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PolicyDocument

    title = factory.Sequence(lambda n: f"第{n}期総合戦略")


class ResponseFactory(factory.django.DjangoModelFactory):
    """A draft response (use ``tests.test_responses.published`` for a published one)."""

    class Meta:
        model = Response

    author = factory.SubFactory(UserFactory)
    category = factory.LazyFunction(lambda: ResponseCategory.objects.get(slug="reflected"))
    reasoning = factory.Sequence(lambda n: f"ご意見を踏まえ、戦略に盛り込みました（{n}）。")
