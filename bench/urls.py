from django.urls import include, path

from . import views

urlpatterns = [
    path("bench/floor/", views.floor, name="bench-floor"),
    path("", include("portal.urls")),
]
