from django.contrib.auth.models import AbstractUser


class User(AbstractUser):
    """A person who signs in: agency staff, an enterprise's confirmer, a regulator or an administrator.

    Declared at the start of the project so that accounts can grow (staff links, regions, devices)
    without swapping the user model later, which Django cannot do on a live database.
    """

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        verbose_name = "用户"
        verbose_name_plural = "用户"
