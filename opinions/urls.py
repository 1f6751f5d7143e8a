from django.urls import path

from . import views

app_name = "opinions"

urlpatterns = [
    path("opinions/", views.OpinionListView.as_view(), name="opinion-list"),
    path("opinions/<int:pk>/", views.OpinionDetailView.as_view(), name="opinion-detail"),
    path("opinions/<int:pk>/edit/", views.OpinionEditView.as_view(), name="opinion-edit"),
    path(
        "opinions/<int:pk>/withdraw/", views.OpinionWithdrawView.as_view(), name="opinion-withdraw"
    ),
    path("themes/", views.ThemeIndexView.as_view(), name="theme-index"),
    path("themes/<str:slug>/", views.ThemeDetailView.as_view(), name="theme-detail"),
    path("crosstab/", views.CrossTabView.as_view(), name="crosstab"),
    path("submit/", views.SubmitView.as_view(), name="submit"),
    path("submit/done/<int:pk>/", views.SubmitDoneView.as_view(), name="submit-done"),
    path("mypage/", views.MyPageView.as_view(), name="mypage"),
    path("review/", views.ReviewQueueView.as_view(), name="review-queue"),
    path("review/<int:pk>/", views.ReviewActionView.as_view(), name="review-action"),
]
