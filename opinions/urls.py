from django.urls import path

from . import views

app_name = "opinions"

urlpatterns = [
    path("opinions/", views.OpinionListView.as_view(), name="opinion-list"),
    path("opinions/<int:pk>/", views.OpinionDetailView.as_view(), name="opinion-detail"),
    path("themes/", views.ThemeIndexView.as_view(), name="theme-index"),
    path("themes/<str:slug>/", views.ThemeDetailView.as_view(), name="theme-detail"),
    path("crosstab/", views.CrossTabView.as_view(), name="crosstab"),
]
