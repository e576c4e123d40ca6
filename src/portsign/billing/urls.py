from django.urls import path

from portsign.billing import views

app_name = "billing"

urlpatterns = [
    path("", views.index, name="index"),
    path("orders/", views.order, name="order"),
    path("orders/<str:order_id>/pay/", views.pay, name="pay"),
    path("orders/<str:order_id>/returned/", views.returned, name="returned"),
    path("orders/<str:order_id>/invoice/", views.invoice, name="invoice"),
    path("office/", views.office, name="office"),
    path("office/orders/<str:order_id>/refund/", views.refund, name="refund"),
    path("office/invoices/<str:invoice_id>/issue/", views.issue, name="issue"),
    path("notify/<str:provider_name>/", views.notify, name="notify"),
    path("sandbox/cashier/<str:order_id>/", views.sandbox_cashier, name="sandbox_cashier"),
]
