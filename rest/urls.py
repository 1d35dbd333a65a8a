from django.urls import path

from rest import views

app_name = "rest"
urlpatterns = [
    path("<str:user_id>/<str:token>/<str:method>", views.endpoint, name="endpoint"),
]
