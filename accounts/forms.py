from django import forms

from accounts.models import User, time_zone_choices


class ProfileForm(forms.ModelForm):
    # Declared for its choices; a declared field does not take the model field's label.
    time_zone = forms.ChoiceField(
        label=User._meta.get_field("time_zone").verbose_name, choices=time_zone_choices
    )

    class Meta:
        model = User
        fields = ["full_name", "email", "language", "time_zone"]
