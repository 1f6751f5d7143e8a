from django.urls import path

from . import views

app_name = "opinions"

urlpatterns = [
    path("", views.OpinionListView.as_view(), name="opinion-list"),
    path("<int:pk>/", views.OpinionDetailView.as_view(), name="opinion-detail"),
]
