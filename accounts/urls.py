from django.contrib.auth import views as auth_views
from django.urls import include, path

from accounts import views
from accounts.profile import profile_sections

app_name = "accounts"
urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("people/", views.people_search, name="people-search"),
    path("profile/", views.profile, name="profile"),
    path("profile/notifications/read/", views.notifications_read, name="notifications-read"),
    *(path(f"profile/{s.name}/", include(list(s.urlpatterns))) for s in profile_sections),
]
