# The role the ingress assumes for one route; apply it in the backend's account.
module "orders_api_route" {
  source = "../.."

  role_name        = "lambda-svid-ingress-orders-api"
  ingress_role_arn = "arn:aws:iam::111111111111:role/lambda-svid-ingress" # the ingress's IRSA role

  backend = {
    execute_api = {
      execution_arn = "arn:aws:execute-api:eu-west-1:222222222222:a1b2c3d4e5"
      stage         = "prod"
      methods       = ["GET", "POST"]
      resource_path = "/orders/"
    }
  }
}

output "role_arn" {
  value = module.orders_api_route.role_arn
}
