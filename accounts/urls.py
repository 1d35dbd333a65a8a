from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("profile/", views.profile, name="profile"),
    path("profile/notifications/read/", views.notifications_read, name="notifications-read"),
    path("profile/webhooks/", views.webhook_add, name="webhook-create"),
    path("profile/webhooks/<int:pk>/revoke/", views.webhook_delete, name="webhook-revoke"),
]
