from django.urls import path

from . import views

urlpatterns = [path("customers/<str:customer_id>/summary", views.customer_summary)]
