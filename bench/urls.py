from django.urls import include, path

from . import views

urlpatterns = [
    path("bench/floor/", views.floor, name="bench-floor"),
    path("bench/export.csv", views.export_csv, name="bench-export"),
    path("", include("portal.urls")),
]
